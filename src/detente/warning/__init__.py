"""Early warning: country-month conflict forecasts with honest uncertainty, scored the way
the ViEWS prediction challenge scores them."""
