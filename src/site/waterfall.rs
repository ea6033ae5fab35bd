//! Where one get's time goes: the layer groups' results stacked from the TCP floor up to
//! the whole operation, as a table (layer, cost, Δ, note) and as
//! a waterfall chart.
//!
//! Each layer's cost is one benchmark's time per element, except the server's: the
//! embedded server's own mean time per get, measured by the server during the get's
//! benchmark ([`ServerShare`]). "encode/decode and the rest" is the whole get minus every
//! layer below it, so it carries whatever the groups do not isolate (command encoding,
//! parsing, the client's own bookkeeping), and the server's work when that is unknown.

use std::path::PathBuf;

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
    /// The least and the most it can be, when a histogram gave it.
    pub bounds_ns: Option<(f64, f64)>,
    /// The floor was measured against the server itself (any target but the embedded
    /// one: its responder is the target's first host), so the server's time is inside it.
    pub in_floor: bool,
    pub note: String,
}

/// The server's row from the recorded share, or why it is unknown.
pub fn server_cost(share: Option<&ServerShare>) -> Result<ServerCost, String> {
    let Some(share) = share else {
        return Err("not recorded: run the single_op group".into());
    };
    let f = &share.fingerprint;
    let Some(ns) = share.mean_ns else {
        return Err(format!("{}: {} target, {}", share.how, f.target, f.server));
    };
    let gets = match share.gets {
        0 => String::new(),
        n => format!(", mean of {n} gets"),
    };
    let bounds = share.bounds_ns.map_or(String::new(), |(low, high)| {
        format!(", between {} and {}", format_ns(low), format_ns(high))
    });
    Ok(ServerCost {
        ns,
        bounds_ns: share.bounds_ns,
        in_floor: f.target != "embedded",
        note: format!(
            "the server's own time per get, request in to reply out, {}{gets}{bounds}, during {} \
             ({} target, {})",
            share.how,
            LAYERS[LAYERS.len() - 1].bench,
            f.target,
            f.server
        ),
    })
}

/// A layer with its measured cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub note: String,
    /// This layer's own cost, ns.
    pub cost_ns: f64,
    /// The least and the most that cost can be, when the server's share is a histogram's
    /// estimate (its row, and the rows computed from it).
    pub bounds_ns: Option<(f64, f64)>,
    /// Sum of this layer and all below it, ns.
    pub cumulative_ns: f64,
    /// Where the layer's benchmark keeps its results (and its per-op counters).
    pub bench_dir: Option<PathBuf>,
}

impl Layer {
    fn new(name: String, note: String, cost_ns: f64, bench_dir: Option<PathBuf>) -> Layer {
        Layer {
            name,
            note,
            cost_ns,
            bounds_ns: None,
            cumulative_ns: 0.0,
            bench_dir,
        }
    }

    /// This layer's cost less the server's (its bounds reversed: the more the server took,
    /// the less is left).
    fn less(mut self, server: &ServerCost) -> Layer {
        self.cost_ns -= server.ns;
        self.bounds_ns = server.bounds_ns.map(|(low, high)| {
            (
                self.cost_ns - (high - server.ns),
                self.cost_ns + (server.ns - low),
            )
        });
        self
    }
}

/// Builds the stack from `results` and the server's cost when known, skipping layers whose
/// benchmark did not run. The top row, "encode/decode and the rest", is the whole get minus
/// the layers below; `None` without the get itself.
pub fn stack(results: &[BenchResult], server: Option<ServerCost>) -> Option<Vec<Layer>> {
    let measured = |spec: &LayerSpec| {
        let r = results.iter().find(|r| r.id == spec.bench)?;
        let (name, note) = (spec.name.to_string(), spec.note.to_string());
        Some(Layer::new(
            name,
            note,
            r.per_element_ns(),
            Some(r.dir.clone()),
        ))
    };
    let (whole, parts) = LAYERS.split_last()?;
    let get = measured(whole)?;
    let total = get.cost_ns;
    let (floor, client) = parts.split_first()?;
    // A floor that the server answered holds the server's time: the row below it is then
    // the floor minus the server, the network and the kernel alone.
    let floor = measured(floor).map(|floor| match &server {
        Some(s) if s.in_floor => Layer {
            name: format!("{} minus the server", floor.name),
            note: format!(
                "{}, answered by the server itself, minus the server row",
                floor.note
            ),
            ..floor.less(s)
        },
        _ => floor,
    });
    let server_row = server.as_ref().map(|s| Layer {
        bounds_ns: s.bounds_ns,
        ..Layer::new(SERVER.into(), s.note.clone(), s.ns, None)
    });
    let mut layers: Vec<Layer> = floor
        .into_iter()
        .chain(server_row)
        .chain(client.iter().filter_map(measured))
        .collect();
    let below: f64 = layers.iter().map(|l| l.cost_ns).sum();
    let rest = Layer::new(
        "encode/decode and the rest".into(),
        format!(
            "{} minus every layer below (includes warm-pool acquisition); per-op counters \
             of the whole get",
            whole.name
        ),
        total,
        get.bench_dir,
    );
    // The rest is the get less the layers below; only the server's share is uncertain,
    // and the floor's uncertainty cancels it when the floor held the server.
    let rest = match &server {
        Some(s) if !s.in_floor => Layer {
            cost_ns: total - below + s.ns,
            ..rest
        }
        .less(s),
        _ => Layer {
            cost_ns: total - below,
            ..rest
        },
    };
    layers.push(rest);
    let mut cumulative = 0.0;
    for layer in &mut layers {
        cumulative += layer.cost_ns;
        layer.cumulative_ns = cumulative;
    }
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
            bounds_ns: None,
            in_floor: false,
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
        let mut share = ServerShare::unknown("no histogram".into(), fingerprint);
        assert!(server_cost(None).unwrap_err().contains("not recorded"));
        let why = server_cost(Some(&share)).unwrap_err();
        assert!(
            why.contains("no histogram") && why.contains("container"),
            "{why}"
        );
        (share.gets, share.mean_ns) = (4, Some(2_500.0));
        let cost = server_cost(Some(&share)).unwrap();
        assert_eq!(cost.ns, 2_500.0);
        assert!(cost.note.contains("mean of 4 gets"), "{}", cost.note);
        assert!(
            cost.in_floor,
            "the container's floor is answered by its server"
        );
    }

    /// On the real server the floor's peer is the server: its time is taken out of the
    /// floor, so the rows still add up to the get.
    #[test]
    fn a_floor_the_server_answered_gives_up_the_server_row() {
        let server = ServerCost {
            ns: 8_000.0,
            bounds_ns: Some((6_000.0, 12_000.0)),
            in_floor: true,
            note: "histogram".into(),
        };
        let layers = stack(&results(), Some(server)).unwrap();
        assert_eq!(layers[0].name, "TCP floor minus the server");
        assert_eq!(layers[0].cost_ns, 12_000.0);
        assert_eq!(layers[1].cumulative_ns, 20_000.0);
        let rest = layers.last().unwrap();
        assert_eq!(rest.cost_ns, 30_000.0 - 20_302.0);
        let sum: f64 = layers.iter().map(|l| l.cost_ns).sum();
        assert_eq!(sum, 30_000.0);
    }
}
