//! Where one get's time goes: the layer groups' results stacked from the TCP floor up to
//! the whole operation, as a table (layer, cost, Δ, note) and as
//! a waterfall chart.
//!
//! Each layer's cost is one benchmark's time per element. "encode/decode and the rest" is
//! the whole get minus every layer below it, so it carries whatever the groups do not
//! isolate (command encoding, parsing, the client's own bookkeeping).

use crate::criterion_results::BenchResult;

/// One layer: the benchmark that measures it and what it means.
pub struct LayerSpec {
    pub name: &'static str,
    pub bench: &'static str,
    pub note: &'static str,
}

/// The layers of one get, bottom-up. The last entry is the whole operation. Pool acquisition
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

/// Builds the stack from `results`, skipping layers whose benchmark did not run. The top
/// row, "encode/decode and the rest", is the whole get minus the layers below; `None`
/// without the get itself.
pub fn stack(results: &[BenchResult]) -> Option<Vec<Layer>> {
    let find = |id: &str| {
        results
            .iter()
            .find(|r| r.id == id)
            .map(BenchResult::per_element_ns)
    };
    let (whole, parts) = LAYERS.split_last()?;
    let total = find(whole.bench)?;
    let mut layers = Vec::new();
    let mut cumulative = 0.0;
    for spec in parts {
        let Some(cost) = find(spec.bench) else {
            continue;
        };
        cumulative += cost;
        layers.push(Layer {
            name: spec.name.into(),
            note: spec.note.into(),
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
            crate::criterion_results::format_ns(layer.cost_ns)
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{LABEL}\" y=\"{:.0}\" fill=\"#555\">total {}</text>\n</svg>\n",
        height - 4.0,
        crate::criterion_results::format_ns(total)
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

    #[test]
    fn the_rest_is_the_get_minus_the_layers_below() {
        let results = [
            result("floor/tokio", 20_000.0),
            result("key/int/set", 300.0),
            result("rng/xoshiro256pp", 2.0),
            result("single_op/async/get", 30_000.0),
        ];
        let layers = stack(&results).unwrap();
        assert_eq!(layers.len(), 4, "missing timer and pool rows are skipped");
        let rest = layers.last().unwrap();
        assert_eq!(rest.cost_ns, 30_000.0 - 20_302.0);
        assert_eq!(rest.cumulative_ns, 30_000.0);
        assert!(waterfall_svg(&layers).contains("encode/decode and the rest"));
        assert!(stack(&results[..3]).is_none(), "no get, no stack");
    }
}
