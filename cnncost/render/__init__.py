"""Turning reports into text: plain formats (json, csv, markdown, summary) in render.plain;
tables laid out to the output's width by render.layout, with no library beyond Python's."""
