"""Natural-language understanding: the parser seam, number normalisation, parsers."""
