//! The timeline picture (`--plot FILE.svg`): throughput and latency per 100 ms, the
//! fault, its end and every maintenance event marked as vertical lines.

use crate::report::Report;
use crate::timeline::BUCKET_US;
use plotters::prelude::*;
use std::path::Path;

const FONT: &str = "sans-serif";

pub fn write_svg(report: &Report, path: &Path) -> anyhow::Result<()> {
    let buckets = &report.timeline.buckets;
    let per_s = 1_000_000.0 / BUCKET_US as f64;
    let secs = |i: usize| i as f64 * BUCKET_US as f64 / 1e6;
    let x_max = (report.duration_ms / 1000.0)
        .max(secs(buckets.len()))
        .max(0.1);
    let thr: Vec<(f64, f64)> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| (secs(i), b.ops as f64 * per_s))
        .collect();
    let mean: Vec<(f64, f64)> = buckets
        .iter()
        .enumerate()
        .filter(|(_, b)| b.ops > 0)
        .map(|(i, b)| (secs(i), b.latency_sum_us as f64 / b.ops as f64 / 1000.0))
        .collect();
    let max: Vec<(f64, f64)> = buckets
        .iter()
        .enumerate()
        .filter(|(_, b)| b.ops > 0)
        .map(|(i, b)| (secs(i), b.latency_max_us as f64 / 1000.0))
        .collect();
    let errs: Vec<(f64, f64)> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| (secs(i), b.errors as f64 * per_s))
        .collect();
    let thr_max = thr.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let lat_max = max.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;

    // Marks: (time s, label, colour).
    let mut marks: Vec<(f64, String, RGBColor)> = Vec::new();
    if let Some(t) = report.fault_at_ms {
        marks.push((t / 1000.0, format!("fault: {}", report.scenario), RED));
    }
    if let Some(t) = report.fault_end_ms {
        marks.push((t / 1000.0, "fault ended".into(), GREEN));
    }
    for e in &report.events {
        marks.push((e.t_ms / 1000.0, e.kind.clone(), RGBColor(90, 90, 200)));
    }

    let root = SVGBackend::new(path, (1100, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let title = format!(
        "ferrocache drill {} through the {} — {} clients, {} errors, {} of {} acked writes lost, longest write pause {} ms",
        report.scenario,
        report.path,
        report.clients,
        report.errors,
        report.lost_writes,
        report.acked_writes,
        report.max_write_pause_ms
    );
    let root = root.titled(&title, (FONT, 15)).map_err(plot_err)?;
    let (top, bottom) = root.split_vertically(350);

    let mut c = ChartBuilder::on(&top)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, 0f64..thr_max)
        .map_err(plot_err)?;
    c.configure_mesh()
        .y_desc("operations/s")
        .x_desc("seconds")
        .draw()
        .map_err(plot_err)?;
    c.draw_series(LineSeries::new(thr, &BLUE))
        .map_err(plot_err)?
        .label("throughput")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
    c.draw_series(LineSeries::new(errs, &RED))
        .map_err(plot_err)?
        .label("errors/s")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
    for (i, (t, label, colour)) in marks.iter().enumerate() {
        c.draw_series(std::iter::once(PathElement::new(
            vec![(*t, 0.0), (*t, thr_max)],
            colour,
        )))
        .map_err(plot_err)?;
        // Stagger the labels so events close in time stay readable.
        let y = thr_max * (0.95 - 0.07 * (i % 6) as f64);
        c.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*t, y),
            (FONT, 11).into_font().color(colour),
        )))
        .map_err(plot_err)?;
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_err)?;

    let mut l = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, 0f64..lat_max)
        .map_err(plot_err)?;
    l.configure_mesh()
        .y_desc("latency ms")
        .x_desc("seconds")
        .draw()
        .map_err(plot_err)?;
    l.draw_series(LineSeries::new(max, &MAGENTA))
        .map_err(plot_err)?
        .label("max per 100 ms")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], MAGENTA));
    l.draw_series(LineSeries::new(mean, &BLACK))
        .map_err(plot_err)?
        .label("mean per 100 ms")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
    for (t, _, colour) in &marks {
        l.draw_series(std::iter::once(PathElement::new(
            vec![(*t, 0.0), (*t, lat_max)],
            colour,
        )))
        .map_err(plot_err)?;
    }
    l.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err)?;
    Ok(())
}

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the timeline: {e}")
}
