//! Plain-text tables in aligned columns, for `ps`, `daemons`, `procs` and the `up` summary.
//!
//! Each column is as wide as its widest cell (header included, and never narrower than its
//! minimum); cells are padded by character count, not bytes. Lines carry no trailing padding:
//! the last cell is written as it is, and empty cells at the end of a line are left out with
//! the gaps before them, so `grep`/`diff` on the output see no invisible spaces.
//!
//! Cells are made terminal-safe as they are pushed ([`terminal_safe::escape`]): a name holding
//! ESC or `\n` shows as `\e` or `\n` and can neither drive the terminal nor forge a row.

use crate::terminal_safe;

/// Which side of its column a cell sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers and durations: padded on the left.
    Right,
}

/// A header and rows of cells; see the module docs for the layout rules.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    min_width: Vec<usize>,
    gap: &'static str,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles, every column left-aligned, two spaces between them.
    pub(crate) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|title| (*title).to_owned()).collect(),
            align: vec![Align::Left; header.len()],
            min_width: vec![0; header.len()],
            gap: "  ",
            rows: Vec::new(),
        }
    }

    /// Aligns `column` (0-based) to the right.
    pub(crate) fn right(mut self, column: usize) -> Self {
        self.align[column] = Align::Right;
        self
    }

    /// Keeps `column` at least `width` characters wide, so the layout does not shift with the
    /// values a run happens to have.
    pub(crate) fn min_width(mut self, column: usize, width: usize) -> Self {
        self.min_width[column] = width;
        self
    }

    /// Puts `gap` between columns instead of two spaces.
    pub(crate) fn gap(mut self, gap: &'static str) -> Self {
        self.gap = gap;
        self
    }

    /// Appends a row, its control characters escaped; it must have one cell per column.
    pub(crate) fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "one cell per column");
        self.rows.push(row.into_iter().map(terminal_safe::escape_owned).collect());
    }

    /// The whole table, one `\n`-terminated line per row, header first.
    pub(crate) fn render(&self) -> String {
        let (header, rows) = self.lines(|_, _, cell| cell);
        let mut out = String::new();
        for line in std::iter::once(header).chain(rows) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The header line and the row lines, unterminated. `paint(row, column, padded_cell)`
    /// decorates each body cell after padding (colour escapes must not count as width).
    pub(crate) fn lines(
        &self,
        paint: impl Fn(usize, usize, String) -> String,
    ) -> (String, Vec<String>) {
        let widths = self.widths();
        let header = self.line(&self.header, &widths, |_, cell| cell);
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(index, row)| self.line(row, &widths, |column, cell| paint(index, column, cell)))
            .collect();
        (header, rows)
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .header
            .iter()
            .zip(&self.min_width)
            .map(|(title, min)| title.chars().count().max(*min))
            .collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        widths
    }

    fn line(
        &self,
        row: &[String],
        widths: &[usize],
        paint: impl Fn(usize, String) -> String,
    ) -> String {
        let Some(last) = row.iter().rposition(|cell| !cell.is_empty()) else {
            return String::new();
        };
        let mut line = String::new();
        for (column, cell) in row[..=last].iter().enumerate() {
            if column > 0 {
                line.push_str(self.gap);
            }
            let width = widths[column];
            let padded = match self.align[column] {
                // Nothing follows the last cell, so padding it would only add trailing spaces.
                Align::Left if column == last => cell.clone(),
                Align::Left => format!("{cell:<width$}"),
                Align::Right => format!("{cell:>width$}"),
            };
            line.push_str(&paint(column, padded));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_without_trailing_spaces() {
        let mut table = Table::new(&["NAME", "PID", "NOTE"]).right(1);
        table.push(vec!["a".into(), "12345".into(), "".into()]);
        table.push(vec!["longer".into(), "7".into(), "ok".into()]);
        assert_eq!(table.render(), "NAME      PID  NOTE\na       12345\nlonger      7  ok\n");
    }

    #[test]
    fn widths_count_characters_and_respect_minimums() {
        let mut table = Table::new(&["X", "Y"]).min_width(0, 3).gap(" ");
        table.push(vec!["é".into(), "z".into()]);
        assert_eq!(table.render(), "X   Y\né   z\n");
    }

    #[test]
    fn control_characters_cannot_forge_rows_or_reach_the_terminal() {
        let mut table = Table::new(&["NAME", "NOTE"]);
        table.push(vec!["evil\x1b[2J\nFAKE ROW".into(), "ok".into()]);
        assert_eq!(table.render(), "NAME                 NOTE\nevil\\e[2J\\nFAKE ROW  ok\n");
    }

    #[test]
    fn paint_sees_padded_body_cells_only() {
        let mut table = Table::new(&["A", "B"]);
        table.push(vec!["x".into(), "y".into()]);
        let (header, rows) =
            table.lines(|_, column, cell| if column == 0 { format!("[{cell}]") } else { cell });
        assert_eq!(header, "A  B");
        assert_eq!(rows, ["[x]  y"]);
    }
}
