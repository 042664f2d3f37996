"""The web console for people: the browser phone (and, as they land, agent desktop, wallboard, inbox)."""
