"""Turning reports into text: plain formats here (json, csv, markdown, summary); rich tables
in render.tables, imported only when a table is drawn."""
