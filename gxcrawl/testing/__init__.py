"""What contributors reuse to test a portal of their own: fixture server, evaluation gate."""
