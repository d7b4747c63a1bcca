//! What a report is about and where it stands, and the one rule every CSV cell passes
//! through: text a spreadsheet would run as a formula is defused.

crate::stored_enum! {
    /// What a report lists: one CSV row per order, product or user account.
    pub enum ReportType {
        Orders,
        Products,
        Users,
    }
}

impl ReportType {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::Orders => "orders",
            ReportType::Products => "products",
            ReportType::Users => "users",
        }
    }
}

crate::stored_enum! {
    /// `pending` (queued) → `running` → `done` (downloadable) or `failed`.
    pub enum ReportStatus {
        Pending,
        Running,
        Done,
        Failed,
    }
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Pending => "pending",
            ReportStatus::Running => "running",
            ReportStatus::Done => "done",
            ReportStatus::Failed => "failed",
        }
    }
}

/// A cell as written to the CSV: text starting with `=`, `+`, `-`, `@` (or a tab or carriage
/// return, which some spreadsheets skip before looking) gets a leading `'`, so a spreadsheet
/// shows it instead of evaluating it (OWASP's advice against CSV injection). Numbers are
/// written by the exporter as numbers and never pass through here, so `-5` stays `-5`.
pub fn defused(text: &str) -> std::borrow::Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::defused;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(defused("=SUM(A1:A9)"), "'=SUM(A1:A9)");
        assert_eq!(defused("+1"), "'+1");
        assert_eq!(defused("-2+3"), "'-2+3");
        assert_eq!(defused("@cmd"), "'@cmd");
        assert_eq!(defused("\t=1"), "'\t=1");
        assert_eq!(defused("Tee, black"), "Tee, black");
        assert_eq!(defused(""), "");
    }
}
