"""State changes of the territory app. Each public function takes the acting user as `actor`."""
