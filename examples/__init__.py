"""Worked examples of using paddle_supernet beyond the challenge spaces (see README, "Your own search space")."""
