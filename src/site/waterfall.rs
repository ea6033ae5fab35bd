//! Where one get's time goes: the layer groups' results stacked from the TCP floor up to
//! the whole operation, as a table (layer, cost, Δ, note) and as
//! a waterfall chart.
//!
//! Each layer's cost is one benchmark's time per element, except the server's: the
//! embedded server's own mean time per get, measured by the server during the get's
//! benchmark ([`ServerShare`]). "encode/decode and the rest" is the whole get minus every
//! layer below it, so it carries whatever the groups do not isolate (command encoding,
//! parsing, the client's own bookkeeping), and the server's work when that is unknown.

use crate::criterion_results::{BenchResult, format_ns};
use crate::server_share::ServerShare;

/// One layer: the benchmark that measures it and what it means.
pub struct LayerSpec {
    pub name: &'static str,
    pub bench: &'static str,
    pub note: &'static str,
}

/// The layers of one get, bottom-up, the TCP floor first: the server's row goes right above
/// it, below the client's. The last entry is the whole operation. Pool acquisition
/// on a warm pool cannot be isolated through the public API (the pool group measures cold
/// and contended acquisition by difference), so it stays inside "the rest".
pub const LAYERS: [LayerSpec; 5] = [
    LayerSpec {
        name: "TCP floor",
        bench: "floor/tokio",
        note: "raw loopback round trip with a get's request and reply sizes (Tokio)",
    },
    LayerSpec {
        name: "key construction",
        bench: "key/int/set",
        note: "Key::new with an integer user key and a set: RIPEMD-160 digest",
    },
    LayerSpec {
        name: "RNG",
        bench: "rng/xoshiro256pp",
        note: "choosing the key id (xoshiro256++)",
    },
    LayerSpec {
        name: "timer registration",
        bench: "timer/multi_thread/sleep_reset",
        note: "one reset of a reused Sleep, as aerospike-core does per I/O",
    },
    LayerSpec {
        name: "get (async, 1 task)",
        bench: "single_op/async/get",
        note: "the whole operation through the public API",
    },
];

/// The server's row, when its share is known.
pub const SERVER: &str = "server (measured)";

/// The server's own time per get, and the note of its row.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerCost {
    pub ns: f64,
    pub note: String,
}

/// The server's row from the recorded share, or why it is unknown.
pub fn server_cost(share: Option<&ServerShare>) -> Result<ServerCost, String> {
    let Some(share) = share else {
        return Err("not recorded: run the single_op group against the embedded server".into());
    };
    let f = &share.fingerprint;
    match share.mean_ns {
        Some(ns) => Ok(ServerCost {
            ns,
            note: format!(
                "the server's own time per get, frame in to reply written, mean of {} gets \
                 during {} ({} target, {})",
                share.gets,
                LAYERS[LAYERS.len() - 1].bench,
                f.target,
                f.server
            ),
        }),
        None => Err(format!(
            "the {} target ({}) does not report it",
            f.target, f.server
        )),
    }
}

/// A layer with its measured cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub note: String,
    /// This layer's own cost, ns.
    pub cost_ns: f64,
    /// Sum of this layer and all below it, ns.
    pub cumulative_ns: f64,
}

/// Builds the stack from `results` and the server's cost when known, skipping layers whose
/// benchmark did not run. The top row, "encode/decode and the rest", is the whole get minus
/// the layers below; `None` without the get itself.
pub fn stack(results: &[BenchResult], server: Option<ServerCost>) -> Option<Vec<Layer>> {
    let find = |id: &str| {
        results
            .iter()
            .find(|r| r.id == id)
            .map(BenchResult::per_element_ns)
    };
    let (whole, parts) = LAYERS.split_last()?;
    let total = find(whole.bench)?;
    let measured = |spec: &LayerSpec| {
        Some((
            spec.name.to_string(),
            spec.note.to_string(),
            find(spec.bench)?,
        ))
    };
    let (floor, client) = parts.split_first()?;
    let server = server.map(|s| (SERVER.to_string(), s.note, s.ns));
    let below = measured(floor)
        .into_iter()
        .chain(server)
        .chain(client.iter().filter_map(measured));
    let mut layers = Vec::new();
    let mut cumulative = 0.0;
    for (name, note, cost) in below {
        cumulative += cost;
        layers.push(Layer {
            name,
            note,
            cost_ns: cost,
            cumulative_ns: cumulative,
        });
    }
    layers.push(Layer {
        name: "encode/decode and the rest".into(),
        note: format!(
            "{} minus every layer below (includes warm-pool acquisition)",
            whole.name
        ),
        cost_ns: total - cumulative,
        cumulative_ns: total,
    });
    Some(layers)
}

/// An SVG waterfall: one bar per layer, starting where the layer below ended.
pub fn waterfall_svg(layers: &[Layer]) -> String {
    const WIDTH: f64 = 760.0;
    const LABEL: f64 = 220.0;
    const ROW: f64 = 30.0;
    let total = layers.last().map_or(1.0, |l| l.cumulative_ns).max(1.0);
    let scale = (WIDTH - LABEL - 90.0) / total;
    let height = ROW * layers.len() as f64 + 30.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"13\">\n"
    );
    for (i, layer) in layers.iter().enumerate() {
        let y = ROW * i as f64 + 10.0;
        let start = LABEL + (layer.cumulative_ns - layer.cost_ns.max(0.0)) * scale;
        let width = (layer.cost_ns.max(0.0) * scale).max(1.0);
        let colour = if i + 1 == layers.len() {
            "#d95f02"
        } else {
            "#1b9e77"
        };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.0}\">{}</text>\
             <rect x=\"{start:.1}\" y=\"{y:.0}\" width=\"{width:.1}\" height=\"20\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.0}\">{}</text>\n",
            y + 15.0,
            super::escape(&layer.name),
            start + width + 6.0,
            y + 15.0,
            format_ns(layer.cost_ns)
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{LABEL}\" y=\"{:.0}\" fill=\"#555\">total {}</text>\n</svg>\n",
        height - 4.0,
        format_ns(total)
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criterion_results::{Estimate, Interval};

    fn result(id: &str, ns: f64) -> BenchResult {
        BenchResult {
            id: id.into(),
            group: id.split('/').next().unwrap().into(),
            function: None,
            value: None,
            elements: None,
            time_ns: Estimate {
                point_estimate: ns,
                confidence_interval: Interval {
                    lower_bound: ns,
                    upper_bound: ns,
                },
            },
            dir: Default::default(),
        }
    }

    fn results() -> [BenchResult; 4] {
        [
            result("floor/tokio", 20_000.0),
            result("key/int/set", 300.0),
            result("rng/xoshiro256pp", 2.0),
            result("single_op/async/get", 30_000.0),
        ]
    }

    fn names(layers: &[Layer]) -> Vec<&str> {
        layers.iter().map(|l| l.name.as_str()).collect()
    }

    #[test]
    fn the_rest_is_the_get_minus_the_layers_below() {
        let results = results();
        let layers = stack(&results, None).unwrap();
        assert_eq!(layers.len(), 4, "missing timer and pool rows are skipped");
        let rest = layers.last().unwrap();
        assert_eq!(rest.cost_ns, 30_000.0 - 20_302.0);
        assert_eq!(rest.cumulative_ns, 30_000.0);
        assert!(waterfall_svg(&layers).contains("encode/decode and the rest"));
        assert!(stack(&results[..3], None).is_none(), "no get, no stack");
    }

    #[test]
    fn the_server_sits_on_the_floor_and_leaves_the_client_the_rest() {
        let server = ServerCost {
            ns: 3_000.0,
            note: "measured".into(),
        };
        let layers = stack(&results(), Some(server)).unwrap();
        assert_eq!(
            names(&layers),
            [
                "TCP floor",
                SERVER,
                "key construction",
                "RNG",
                "encode/decode and the rest"
            ]
        );
        assert_eq!(
            (layers[1].cost_ns, layers[1].cumulative_ns),
            (3_000.0, 23_000.0)
        );
        let rest = layers.last().unwrap();
        assert_eq!(rest.cost_ns, 30_000.0 - 20_000.0 - 3_000.0 - 302.0);
        assert_eq!(rest.cumulative_ns, 30_000.0);
    }

    #[test]
    fn the_server_row_needs_a_known_share() {
        let fingerprint = crate::meta::Fingerprint {
            target: "container".into(),
            server: "Community/8.1.2.0".into(),
            ..Default::default()
        };
        let mut share = ServerShare {
            fingerprint,
            gets: 0,
            mean_ns: None,
        };
        assert!(server_cost(None).unwrap_err().contains("not recorded"));
        assert!(server_cost(Some(&share)).unwrap_err().contains("container"));
        (share.gets, share.mean_ns) = (4, Some(2_500.0));
        let cost = server_cost(Some(&share)).unwrap();
        assert_eq!(cost.ns, 2_500.0);
        assert!(cost.note.contains("mean of 4 gets"), "{}", cost.note);
    }
}
