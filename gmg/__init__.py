"""gmg: an explorer of goal misgeneralization (pure library; the UI lives in gmg.ui and pages/)."""
