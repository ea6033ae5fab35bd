//! The report's pictures of `aerobench run` and `aerobench knee` results, drawn as SVG with
//! plotters (the crate Criterion draws with): throughput and p99 second by second, the
//! percentile distribution of every run on log scales (open-loop runs dashed, so response
//! times are never mistaken for closed-loop latencies), and a knee's curve with its SLA.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde_json::Value;

/// Size of every plot, in pixels.
const SIZE: (u32, u32) = (760, 360);
const FONT: (&str, u32) = ("sans-serif", 14);

/// Why a plot could not be drawn (only a plotting-library failure; missing data gives none).
pub type Drawn = Result<String, Box<dyn std::error::Error>>;

/// One run's curve on the distribution plot.
pub struct Line {
    pub label: String,
    /// An open-loop run's response times, drawn dashed.
    pub open_loop: bool,
    /// `[percentile, nanoseconds]` pairs.
    pub curve: Vec<[f64; 2]>,
}

impl Line {
    /// The response-time curve of a run result, if it has one.
    pub fn of(label: &str, doc: &Value) -> Option<Line> {
        let curve = points(&doc["outcome"]["distribution"]["response"])?;
        let rate = doc["knobs"]["rate"].as_u64();
        Some(Line {
            label: match rate {
                Some(rate) => format!("{label} (open loop, {rate}/s: response)"),
                None => format!("{label} (closed loop)"),
            },
            open_loop: rate.is_some(),
            curve,
        })
    }
}

/// `[x, y]` pairs of a JSON array, or `None` if there are none.
fn points(v: &Value) -> Option<Vec<[f64; 2]>> {
    let points: Vec<[f64; 2]> = v
        .as_array()?
        .iter()
        .filter_map(|p| Some([p[0].as_f64()?, p[1].as_f64()?]))
        .collect();
    (!points.is_empty()).then_some(points)
}

/// Throughput (top) and p99 (bottom, µs) of each second of a run result.
pub fn seconds(title: &str, doc: &Value) -> Option<Drawn> {
    let seconds = doc["seconds"].as_array().filter(|s| !s.is_empty())?;
    let series = |f: &dyn Fn(&Value) -> Option<f64>| -> Vec<(f64, f64)> {
        seconds
            .iter()
            .enumerate()
            .filter_map(|(k, s)| Some((k as f64 + 1.0, f(s)?)))
            .collect()
    };
    let tps = series(&|s| s["tps"].as_f64());
    let p99 = series(&|s| Some(s["latency_ns"]["p99"].as_f64()? / 1000.0));
    Some(draw(|root| {
        let (top, bottom) = root.split_vertically(SIZE.1 / 2);
        panel(
            &top,
            &format!("{title}: TPS per second"),
            "TPS",
            &tps,
            &BLUE,
        )?;
        panel(&bottom, "p99 per second", "p99 (µs)", &p99, &RED)
    }))
}

/// One time series on a linear scale from zero.
fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    caption: &str,
    y: &str,
    points: &[(f64, f64)],
    color: &RGBColor,
) -> Result<(), Box<dyn std::error::Error>> {
    let x_max = points.last().map_or(1.0, |p| p.0).max(1.0);
    let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, FONT)
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("second")
        .y_desc(y)
        .x_label_formatter(&|x| number(*x))
        .y_label_formatter(&|y| number(*y))
        .light_line_style(WHITE)
        .draw()?;
    chart.draw_series(LineSeries::new(points.iter().copied(), color))?;
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, color.filled())))?;
    Ok(())
}

/// Every run's percentile curve, percentile and latency both on log scales.
pub fn distribution(lines: &[Line]) -> Option<Drawn> {
    if lines.is_empty() {
        return None;
    }
    let xy = |line: &Line| -> Vec<(f64, f64)> {
        let mut last = 0.0;
        line.curve
            .iter()
            .map(|&[q, ns]| {
                last = match q < 100.0 {
                    true => -(1.0 - q / 100.0).log10(),
                    false => last + 0.25,
                };
                (last, (ns / 1000.0).max(0.01))
            })
            .collect()
    };
    let all: Vec<Vec<(f64, f64)>> = lines.iter().map(xy).collect();
    let flat = all.iter().flatten();
    let x_max = flat.clone().map(|p| p.0).fold(1.0, f64::max).ceil();
    let y_min = flat.clone().map(|p| p.1).fold(f64::MAX, f64::min);
    let y_max = flat.map(|p| p.1).fold(0.0, f64::max);
    Some(draw(|root| {
        let mut chart = log_chart(root, "Latency by percentile", x_max, (y_min, y_max))?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (µs)")
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| number(*y))
            .light_line_style(WHITE)
            .draw()?;
        for (i, (line, points)) in lines.iter().zip(&all).enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let style = color.stroke_width(2);
            match line.open_loop {
                true => chart.draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))?,
                false => chart.draw_series(LineSeries::new(points.clone(), style))?,
            }
            .label(line.label.clone())
            .legend(swatch(color));
        }
        legend(&mut chart)
    }))
}

/// An axis value without needless decimals: `1000`, `2.5`.
fn number(v: f64) -> String {
    match v.abs() >= 10.0 {
        true => format!("{v:.0}"),
        false => format!("{v:.1}"),
    }
}

/// `90%` for x = 1, `99.9%` for x = 3: the percentile 1 − 10^(−x).
fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = (x.ceil() as usize).saturating_sub(2);
    format!("{q:.decimals$}%")
}

/// A knee result: p50, p99 and p99.9 response times against the rate, with the SLA lines.
pub fn knee(title: &str, doc: &Value) -> Option<Drawn> {
    let curve = doc["knee"]["curve"].as_array().filter(|c| !c.is_empty())?;
    let series = |p: &str| -> Vec<(f64, f64)> {
        curve
            .iter()
            .filter_map(|c| {
                let us = c["latency_ns"][p].as_f64()? / 1000.0;
                Some((c["rate"].as_f64()?, us.max(0.01)))
            })
            .collect()
    };
    let lines = [
        ("p50", series("p50"), BLUE, "p50_ns"),
        ("p99", series("p99"), RED, "p99_ns"),
        ("p99.9", series("p999"), MAGENTA, "p999_ns"),
    ];
    let slas: Vec<(&str, f64, RGBColor)> = lines
        .iter()
        .filter_map(|(name, _, color, key)| {
            Some((*name, doc["sla"][key].as_f64()? / 1000.0, *color))
        })
        .collect();
    let ys = lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.1))
        .chain(slas.iter().map(|s| s.1));
    let (y_min, y_max) = ys.fold((f64::MAX, 0.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let x_max = lines[0].1.iter().map(|p| p.0).fold(1.0, f64::max) * 1.05;
    Some(draw(|root| {
        let mut chart = log_chart(
            root,
            format!("{title}: response time by rate"),
            x_max,
            (y_min, y_max),
        )?;
        chart
            .configure_mesh()
            .x_desc("rate asked (calls/s)")
            .y_desc("response time (µs)")
            .x_label_formatter(&|x| number(*x))
            .y_label_formatter(&|y| number(*y))
            .light_line_style(WHITE)
            .draw()?;
        for (name, points, color, _) in &lines {
            let color = *color;
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(*name)
                .legend(swatch(color));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        for (name, us, color) in &slas {
            let color = *color;
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, *us), (x_max, *us)],
                    8,
                    6,
                    color.stroke_width(1),
                ))?
                .label(format!("SLA {name}"))
                .legend(swatch(color));
        }
        legend(&mut chart)
    }))
}

/// A chart with a linear x axis and a logarithmic y axis.
type LogChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// A [`LogChart`] on `root` from 0 to `x_max`, with room around `y_min`..`y_max`.
fn log_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: impl AsRef<str>,
    x_max: f64,
    (y_min, y_max): (f64, f64),
) -> Result<LogChart<'a, 'b>, Box<dyn std::error::Error>> {
    Ok(ChartBuilder::on(root)
        .caption(caption, FONT)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, (y_min * 0.8..y_max * 1.25).log_scale())?)
}

/// The series' legend, in the upper left corner.
fn legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// A series' legend mark: a short line in its color.
fn swatch<C: Color + Copy + 'static>(color: C) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color)
}

/// Draws on a white SVG canvas of [`SIZE`] and returns the document.
fn draw(
    paint: impl FnOnce(
        &DrawingArea<SVGBackend, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>,
) -> Drawn {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        paint(&root)?;
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(rate: Option<u64>) -> Value {
        json!({
            "knobs": {"rate": rate},
            "outcome": {"distribution": {"response": [[0.0, 40000.0], [90.0, 60000.0], [99.0, 90000.0], [100.0, 400000.0]]}},
            "seconds": [
                {"tps": 1000.0, "latency_ns": {"p99": 90000}},
                {"tps": 1100.0, "latency_ns": {"p99": 95000}}
            ]
        })
    }

    #[test]
    fn runs_and_knees_draw_as_svg() {
        let series = seconds("a run", &run(None)).unwrap().unwrap();
        assert!(series.starts_with("<svg") && series.contains("TPS per second"));
        let lines = [
            Line::of("closed", &run(None)).unwrap(),
            Line::of("open", &run(Some(500))).unwrap(),
        ];
        assert!(!lines[0].open_loop && lines[1].open_loop);
        let svg = distribution(&lines).unwrap().unwrap();
        assert!(svg.contains("open (open loop, 500/s: response)"), "{svg}");
        assert!(svg.contains("stroke-dasharray") || svg.matches("<polyline").count() > 2);
        let knee_doc = json!({
            "sla": {"p99_ns": 1000000},
            "knee": {"curve": [
                {"rate": 100, "latency_ns": {"p50": 50000, "p99": 90000, "p999": 200000}},
                {"rate": 200, "latency_ns": {"p50": 60000, "p99": 2000000, "p999": 3000000}}
            ]}
        });
        let svg = knee("a knee", &knee_doc).unwrap().unwrap();
        assert!(svg.contains("SLA p99"), "{svg}");
        assert!(seconds("empty", &json!({"seconds": []})).is_none());
        assert!(distribution(&[]).is_none());
    }

    #[test]
    fn percentile_labels() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
    }
}
