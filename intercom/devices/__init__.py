"""Hardware adapters in gpiozero's style: small devices, a pin-factory seam (``MockFactory``
for the simulated station), ``close()`` and context managers everywhere."""
