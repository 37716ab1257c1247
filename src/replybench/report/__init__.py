"""Report writers: HTML, Markdown, terminal; they consume the outcomes table, never store rows."""
