//! Showing a run's progress on stderr: a bar redrawn in place on a terminal,
//! one plain line per change otherwise (logs, pipes, tests).

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use linkt::{Progress, RunStatus};

/// Width of the bar, in cells.
const BAR_WIDTH: usize = 24;

/// Draws [`Progress`] reports of one run.
#[derive(Debug)]
pub(crate) struct RunProgress {
    terminal: bool,
    drawn: bool,
}

impl RunProgress {
    /// A display for stderr: a bar if stderr is a terminal, lines otherwise.
    pub(crate) fn stderr() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Shows a report.
    pub(crate) fn update(&mut self, progress: &Progress) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            // Return to the line start, clear it, redraw.
            let _ = write!(err, "\r\x1b[2K{}", bar_line(progress));
            let _ = err.flush();
            self.drawn = true;
        } else {
            let _ = writeln!(err, "{}", plain_line(progress));
        }
    }

    /// Ends the display (moves past the bar).
    pub(crate) fn finish(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr());
            self.drawn = false;
        }
    }
}

/// How far the run is, from 0 to 1, if that can be told.
fn fraction(progress: &Progress) -> Option<f64> {
    match progress.status {
        RunStatus::Completed => Some(1.0),
        RunStatus::Scheduled | RunStatus::Pending => Some(0.0),
        _ => {
            let queue = progress.queue?;
            let total = queue.total();
            (total > 0).then(|| (queue.completed + queue.discarded) as f64 / total as f64)
        }
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

fn bar_line(progress: &Progress) -> String {
    let filled = fraction(progress).map_or(0, |f| (f.clamp(0.0, 1.0) * BAR_WIDTH as f64) as usize);
    format!(
        "{:<9} [{}{}] {}  {}",
        progress.status.as_str(),
        "#".repeat(filled),
        "-".repeat(BAR_WIDTH - filled),
        clock(progress.elapsed),
        counts(progress)
    )
    .trim_end()
    .to_owned()
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
