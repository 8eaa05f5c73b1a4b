"""Spiking networks of the two experiments."""
