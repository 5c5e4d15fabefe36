"""How a call and its status look in a notebook: the timeline and theme-aware colours."""
