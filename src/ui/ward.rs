//! The ward's central-station window: a header with the broker connection and the number of
//! beds, one tile per bed in a grid that fits the window (ordered as [`Board::beds`] orders
//! them: worst alarm first, then by name), and a side panel with the trend of the bed clicked.
//!
//! The window takes what the subscriber sends on a channel ([`WardInput`]); it knows nothing
//! of MQTT. It shows no patient data, in the title or anywhere else.

use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use egui::RichText;

use crate::ward::board::{Board, BrokerState, WardInput};
use crate::ward::topic::Bed;

use super::WindowError;
use super::theme::{self, Accent, Theme, accent_color};
use super::ward_tile::{MAX_TILE_HEIGHT, MIN_TILE_HEIGHT, MIN_TILE_WIDTH, tile_ui};
use super::ward_trend::{TREND_PANEL_WIDTH, trend_ui};

/// The longest `logic` spends taking messages in, per frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(8);
/// The gap between tiles.
const GAP: f32 = 10.0;

/// The ward window's state: the board, the broker connection, the bed whose trend is open.
pub struct WardApp {
    board: Board,
    inputs: Receiver<WardInput>,
    broker: BrokerState,
    selected: Option<Bed>,
    theme: Theme,
    applied_theme: Option<Theme>,
    /// A fixed "now" (benchmarks and tests); the system's monotonic clock otherwise.
    fixed_now: Option<Instant>,
}

impl WardApp {
    /// A ward fed from `inputs`, connecting until told otherwise.
    pub fn new(inputs: Receiver<WardInput>) -> WardApp {
        WardApp::with_board(inputs, Board::default())
    }

    /// A ward over `board` (e.g. one made for another keepalive).
    pub fn with_board(inputs: Receiver<WardInput>, board: Board) -> WardApp {
        WardApp {
            board,
            inputs,
            broker: BrokerState::Connecting,
            selected: None,
            theme: Theme::Night,
            applied_theme: None,
            fixed_now: None,
        }
    }

    /// Night (the default) or day.
    #[must_use]
    pub fn with_theme(mut self, theme: Theme) -> WardApp {
        self.theme = theme;
        self
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    pub fn board_mut(&mut self) -> &mut Board {
        &mut self.board
    }

    pub fn broker(&self) -> &BrokerState {
        &self.broker
    }

    /// The bed whose trend is open.
    pub fn selected(&self) -> Option<&Bed> {
        self.selected.as_ref()
    }

    /// Reads ages at `now` instead of the system clock (`None`: the system clock again).
    pub fn set_now(&mut self, now: Option<Instant>) {
        self.fixed_now = now;
    }

    fn now(&self) -> Instant {
        self.fixed_now.unwrap_or_else(Instant::now)
    }

    /// Once a frame, before drawing: the theme, and the messages that came (for at most
    /// [`DRAIN_BUDGET`]; the rest next frame, at once). Asks for a frame a second so ages tick.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if self.applied_theme != Some(self.theme) {
            theme::apply(ctx, self.theme);
            self.applied_theme = Some(self.theme);
        }
        let started = Instant::now();
        while started.elapsed() < DRAIN_BUDGET {
            let Ok(input) = self.inputs.try_recv() else {
                break;
            };
            if let Some(state) = self.board.input(input) {
                self.broker = state;
            }
        }
        if !self.inputs.is_empty() {
            ctx.request_repaint();
        }
        ctx.request_repaint_after(Duration::from_secs(1));
    }

    /// Draws the ward.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let now = self.now();
        let views = self.board.beds(now);
        egui::Panel::top("ward-header").show(ui, |ui| {
            header_ui(ui, &self.broker, views.len(), &self.board);
        });
        if let Some(bed) = self.selected.clone() {
            egui::Panel::right("ward-trend")
                .resizable(false)
                .exact_size(TREND_PANEL_WIDTH)
                .show(ui, |ui| {
                    if trend_ui(ui, &self.board, &bed) {
                        self.selected = None;
                    }
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            if views.is_empty() {
                ui.add_space(40.0);
                ui.vertical_centered(|ui| {
                    ui.label(
                        RichText::new("No bedside has reported yet")
                            .font(theme::bold(28.0))
                            .color(ui.visuals().weak_text_color()),
                    );
                });
                return;
            }
            let avail = ui.available_size();
            let (cols, tile) = grid(avail, views.len());
            let rows = views.len().div_ceil(cols);
            egui::ScrollArea::vertical()
                .id_salt("ward-grid")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    let height = rows as f32 * (tile.y + GAP) - GAP;
                    let (area, _) = ui.allocate_exact_size(
                        egui::vec2(ui.available_width(), height),
                        egui::Sense::hover(),
                    );
                    for (i, view) in views.iter().enumerate() {
                        let (row, col) = (i / cols, i % cols);
                        let min = area.min
                            + egui::vec2(col as f32 * (tile.x + GAP), row as f32 * (tile.y + GAP));
                        let rect = egui::Rect::from_min_size(min, tile);
                        let selected = self.selected.as_ref() == Some(&view.bed);
                        if tile_ui(ui, rect, view, selected) {
                            self.selected = if selected {
                                None
                            } else {
                                Some(view.bed.clone())
                            };
                        }
                    }
                });
        });
    }
}

/// How many columns, and the tile size, for `count` tiles in `avail`: as many columns as fit
/// at [`MIN_TILE_WIDTH`] (never more than the tiles), the rows sharing the height up to
/// [`MAX_TILE_HEIGHT`] and down to [`MIN_TILE_HEIGHT`] (then the grid scrolls).
pub fn grid(avail: egui::Vec2, count: usize) -> (usize, egui::Vec2) {
    let fit = ((avail.x + GAP) / (MIN_TILE_WIDTH + GAP)).floor().max(1.0) as usize;
    let mut cols = fit.min(count.max(1));
    // Balance the rows: 5 beds in 4 columns are better as 3 + 2.
    let rows = count.max(1).div_ceil(cols);
    cols = count.max(1).div_ceil(rows);
    let width = (avail.x - GAP * (cols as f32 - 1.0)) / cols as f32;
    let height = ((avail.y - GAP * (rows as f32 - 1.0)) / rows as f32)
        .clamp(MIN_TILE_HEIGHT, MAX_TILE_HEIGHT);
    (
        cols,
        egui::vec2(width.max(MIN_TILE_WIDTH.min(avail.x)), height),
    )
}

fn header_ui(ui: &mut egui::Ui, broker: &BrokerState, beds: usize, board: &Board) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("Apheresis Ward")
                .font(theme::bold(26.0))
                .color(ui.visuals().strong_text_color()),
        );
        ui.add_space(16.0);
        let beds_text = match beds {
            1 => "1 bed".to_owned(),
            n => format!("{n} beds"),
        };
        ui.label(RichText::new(beds_text).size(22.0).strong());
        ui.add_space(16.0);
        // The connection is not an alarm: accents only.
        let color = match broker {
            BrokerState::Connected => accent_color(Accent::LinkOk, dark),
            BrokerState::Connecting => accent_color(Accent::Notice, dark),
            BrokerState::Failed(_) => accent_color(Accent::Error, dark),
        };
        ui.label(RichText::new(broker.text()).size(20.0).color(color));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                RichText::new(crate::present::text::clock_hm(jiff::Timestamp::now()))
                    .font(theme::bold(26.0))
                    .color(ui.visuals().strong_text_color()),
            );
            if board.refused() > 0 {
                let text = format!("{} messages refused", board.refused());
                ui.label(
                    RichText::new(text)
                        .size(15.0)
                        .color(ui.visuals().weak_text_color()),
                )
                .on_hover_text(board.last_refusal().unwrap_or_default());
            }
        });
    });
}

/// The eframe wrapper.
struct EframeWard {
    app: WardApp,
}

impl eframe::App for EframeWard {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.app.logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
    }
}

/// A waker for a ward window not yet open: `wake` repaints the window once `on_start` (given
/// to [`run_ward_window`]) has handed it the window's context; before that it does nothing.
pub fn waker() -> (
    std::sync::Arc<dyn Fn() + Send + Sync>,
    impl FnOnce(egui::Context) + 'static,
) {
    let cell: std::sync::Arc<std::sync::OnceLock<egui::Context>> = std::sync::Arc::default();
    let for_wake = std::sync::Arc::clone(&cell);
    let wake = move || {
        if let Some(ctx) = for_wake.get() {
            ctx.request_repaint();
        }
    };
    (std::sync::Arc::new(wake), move |ctx| {
        let _ = cell.set(ctx);
    })
}

/// Opens the ward window ("Apheresis Ward") fed from `inputs`, and runs until it is closed.
/// `on_start` is handed the window's egui context once it exists: the subscriber calls
/// `request_repaint` on it after each message it sends, so a tile changes as soon as the
/// message arrives, not at the next second's frame.
pub fn run_ward_window(
    inputs: Receiver<WardInput>,
    window_size: Option<(f32, f32)>,
    on_start: impl FnOnce(egui::Context) + 'static,
) -> Result<(), WindowError> {
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(WindowError::NoDisplay);
    }
    let mut viewport = egui::ViewportBuilder::default();
    if let Ok(icon) = eframe::icon_data::from_png_bytes(super::ICON_PNG) {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_title("Apheresis Ward")
            .with_inner_size(window_size.map_or([1366.0, 768.0], |(w, h)| [w, h]))
            .with_min_inner_size([800.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "apheresis-ward",
        options,
        Box::new(move |cc| {
            on_start(cc.egui_ctx.clone());
            Ok(Box::new(EframeWard {
                app: WardApp::new(inputs),
            }))
        }),
    )
    .map_err(|source| WindowError::Open { source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_fits_eight_beds_in_four_columns_at_1366_and_balances_rows() {
        let avail = egui::vec2(1346.0, 700.0);
        let (cols, tile) = grid(avail, 8);
        assert_eq!(cols, 4);
        assert!(
            tile.x >= MIN_TILE_WIDTH && tile.y >= MIN_TILE_HEIGHT,
            "{tile:?}"
        );
        assert!(
            2.0 * tile.y + GAP <= avail.y,
            "two rows fit without scrolling"
        );
        assert_eq!(grid(avail, 5).0, 3, "3 + 2, not 4 + 1");
        assert_eq!(grid(avail, 6).0, 3);
        assert_eq!(grid(avail, 1).0, 1);
        // With the trend panel open the grid loses a column.
        assert_eq!(grid(egui::vec2(1346.0 - TREND_PANEL_WIDTH, 700.0), 8).0, 2);
    }
}
