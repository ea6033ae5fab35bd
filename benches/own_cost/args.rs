//! The command line, read the way Criterion reads it, and how much a run measures.

use std::time::Duration;

/// How long each case runs, and how many times.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) rounds: usize,
    pub(crate) span: Duration,
}

/// The command line, read the way Criterion reads it.
pub(crate) struct Args {
    pub(crate) test: bool,
    pub(crate) quick: bool,
    pub(crate) list: bool,
    pub(crate) exact: bool,
    pub(crate) filters: Vec<String>,
}

/// Flags of Criterion's command line that take a value, so the value is not read as a
/// filter when `cargo bench -- <flags>` passes them to every bench binary.
pub(crate) const VALUE_FLAGS: [&str; 16] = [
    "--color",
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

impl Args {
    /// Without `--bench` (as under `cargo test`) the binary runs in test mode.
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Args {
        let mut parsed = Args {
            test: false,
            quick: false,
            list: false,
            exact: false,
            filters: Vec::new(),
        };
        let mut args = args.into_iter();
        let mut bench = false;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => bench = true,
                "--test" => parsed.test = true,
                "--quick" => parsed.quick = true,
                "--list" => parsed.list = true,
                "--exact" => parsed.exact = true,
                flag if VALUE_FLAGS.contains(&flag) => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                filter => parsed.filters.push(filter.to_string()),
            }
        }
        parsed.test |= !bench;
        parsed
    }

    pub(crate) fn selects(&self, name: &str) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|f| match self.exact {
                true => name == f,
                false => name.contains(f.as_str()),
            })
    }

    pub(crate) fn plan(&self) -> Plan {
        match (self.test, self.quick) {
            (true, _) => Plan {
                rounds: 1,
                span: Duration::from_millis(100),
            },
            (_, true) => Plan {
                rounds: 1,
                span: Duration::from_secs(1),
            },
            _ => Plan {
                rounds: 3,
                span: Duration::from_secs(2),
            },
        }
    }
}
