"""What every SMart service needs exactly once."""
