"""Bulk import and export of every registered record type (CSV, XLSX, JSON, Parquet)."""
