//! Showing a run's progress on stderr: an `indicatif` bar redrawn in place
//! on a terminal, one plain line per change otherwise (logs, pipes, tests).

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use linkt::{Progress, RunStatus};

/// The bar's layout: status, a 24-cell bar, then the run's clock and counts.
const BAR_TEMPLATE: &str = "{prefix:<9} [{bar:24}] {msg}";

/// Shows [`Progress`] reports of one run.
#[derive(Debug)]
pub(crate) struct RunProgress {
    /// The bar on stderr when it is a terminal; `None` for plain lines.
    bar: Option<ProgressBar>,
}

impl RunProgress {
    /// A display for stderr: a bar if stderr is a terminal, lines otherwise.
    pub(crate) fn stderr() -> Self {
        let bar = std::io::stderr()
            .is_terminal()
            .then(|| ProgressStyle::with_template(BAR_TEMPLATE).ok())
            .flatten()
            .map(|style| {
                ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
                    .with_style(style.progress_chars("#-"))
            });
        Self { bar }
    }

    /// Shows a report.
    pub(crate) fn update(&mut self, progress: &Progress) {
        match &self.bar {
            Some(bar) => {
                let (done, total) = position(progress);
                bar.set_length(total);
                bar.set_position(done);
                bar.set_prefix(progress.status.as_str().to_owned());
                bar.set_message(
                    format!("{}  {}", clock(progress.elapsed), counts(progress))
                        .trim_end()
                        .to_owned(),
                );
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{}", plain_line(progress));
            }
        }
    }

    /// Ends the display, leaving the bar's last state on screen.
    pub(crate) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}

/// How far the run is, as (done, out of), when that can be told; (0, 1)
/// otherwise.
fn position(progress: &Progress) -> (u64, u64) {
    match progress.status {
        RunStatus::Completed => (1, 1),
        RunStatus::Scheduled | RunStatus::Pending => (0, 1),
        _ => match progress.queue {
            Some(queue) if queue.total() > 0 => (queue.completed + queue.discarded, queue.total()),
            _ => (0, 1),
        },
    }
}

fn counts(progress: &Progress) -> String {
    match progress.queue {
        Some(queue) if queue.total() > 0 => format!(
            "{}/{} processed, {} discarded",
            queue.completed + queue.discarded,
            queue.total(),
            queue.discarded
        ),
        _ => String::new(),
    }
}

pub(crate) fn clock(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn plain_line(progress: &Progress) -> String {
    let counts = counts(progress);
    let mut line = format!(
        "[{}] run {}: {}",
        clock(progress.elapsed),
        progress.run_id,
        progress.status
    );
    if !counts.is_empty() {
        line.push_str(&format!(" ({counts})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_shows_minutes_and_seconds() {
        assert_eq!(clock(Duration::from_secs(0)), "0:00");
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_secs(3600)), "60:00");
    }
}
