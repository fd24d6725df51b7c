//! The live dose forecast block: the CD3+ cells collected so far against the target dose, the
//! whole blood still to process for it, when it will be reached, and the CE2 used with where
//! it comes from. One line under the second row; neutral colours (it is information, not an
//! alarm), dimmed like the tiles when the data is not current, and nothing at all for a
//! collection without CD3+ inputs.

use egui::RichText;

use crate::analysis::forecast::{DoseForecast, DoseReached, LiveForecast};

use super::format::clock_hm;
use super::monitor::{MonitorModel, STALE_DIM};
use super::primary::TypeSizes;

/// The block's title, also its accessible name.
pub const FORECAST_TITLE: &str = "CD3+ dose";

/// A count of cells as a multiple of `10^exponent`: `0.62 × 10⁹`.
fn cells_in(count: f64, exponent: i32) -> String {
    format!(
        "{:.2} × 10{}",
        count / 10f64.powi(exponent),
        crate::present::text::superscript(exponent)
    )
}

/// The forecast's parts as the screen writes them, in order; `None` when nothing is shown
/// (no CD3+ inputs).
pub fn forecast_texts(forecast: &LiveForecast) -> Option<Vec<String>> {
    match forecast {
        LiveForecast::NotApplicable => None,
        LiveForecast::Unavailable(why) => Some(vec![format!("no forecast: {why}")]),
        LiveForecast::Ready(f) => Some(ready_texts(f)),
    }
}

fn ready_texts(f: &DoseForecast) -> Vec<String> {
    let target = f.target_cells;
    // The target's power of ten for both counts, so they read against each other.
    let exponent = if target > 0.0 && target.is_finite() {
        target.log10().floor() as i32
    } else {
        9
    };
    let so_far = format!(
        "CD3+ so far {} of {}",
        cells_in(f.cells_so_far, exponent),
        cells_in(target, exponent)
    );
    let blood = match f.reached {
        DoseReached::Already => "target dose reached (estimated)".to_owned(),
        _ => format!("WB still to process {:.1} L", f.wb_remaining_ml / 1000.0),
    };
    let when = match f.reached {
        DoseReached::Already => None,
        DoseReached::At(t) => Some(format!("dose reached ≈ {}", clock_hm(t))),
        DoseReached::NotBeforePlannedEnd { would_be } => Some(format!(
            "not before the planned end (would be {})",
            clock_hm(would_be)
        )),
        DoseReached::NoRate => Some("time not known yet: no processing rate".to_owned()),
    };
    let mut out = vec![so_far, blood];
    out.extend(when);
    out.push(f.ce.describe());
    out
}

/// Draws the block, or nothing for a collection without CD3+ inputs.
pub fn forecast_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>, sizes: TypeSizes) {
    let Some(texts) = forecast_texts(&model.forecast) else {
        return;
    };
    let stale = model.not_current().is_some();
    let dim = |c: egui::Color32| {
        if stale {
            c.gamma_multiply(STALE_DIM)
        } else {
            c
        }
    };
    let title = dim(ui.visuals().weak_text_color());
    let strong = dim(ui.visuals().strong_text_color());
    let normal = dim(ui.visuals().text_color());
    let size = sizes.small_title();
    let response = egui::Frame::new()
        .stroke(egui::Stroke::new(
            1.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        ))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(10, 2))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 14.0;
                ui.label(
                    RichText::new(FORECAST_TITLE)
                        .size(size)
                        .strong()
                        .color(title),
                );
                let last = texts.len() - 1;
                for (i, text) in texts.iter().enumerate() {
                    // The CE2 and its source in the normal weight; the figures strong.
                    let color = if i == last && texts.len() > 1 {
                        normal
                    } else {
                        strong
                    };
                    ui.label(RichText::new(text).size(size).color(color));
                }
            });
        })
        .response;
    let how = "Estimated: pre-collection CD3+ × whole blood processed × CE2; the time at the \
               processing rate of the last 10 minutes of RUN";
    match model.not_current() {
        Some(why) => response.on_hover_text(format!(
            "Not current ({why}): the forecast as of the last value received. {how}"
        )),
        None => response.on_hover_text(how),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::forecast::ExpectedCe;

    #[test]
    fn the_counts_read_in_the_targets_power_of_ten() {
        let f = DoseForecast {
            target_cells: 2e9,
            cells_so_far: 6.2e8,
            wb_needed_ml: 10_000.0,
            wb_remaining_ml: 6_900.0,
            reached: DoseReached::NoRate,
            ce: ExpectedCe::typed(40.0).unwrap(),
        };
        let texts = forecast_texts(&LiveForecast::Ready(f)).unwrap();
        assert_eq!(
            texts,
            [
                "CD3+ so far 0.62 × 10⁹ of 2.00 × 10⁹",
                "WB still to process 6.9 L",
                "time not known yet: no processing rate",
                "CE2 40 % (typed)",
            ]
        );
        assert_eq!(forecast_texts(&LiveForecast::NotApplicable), None);
        assert_eq!(
            forecast_texts(&LiveForecast::Unavailable("needs a target dose".into())),
            Some(vec!["no forecast: needs a target dose".to_owned()])
        );
    }
}
