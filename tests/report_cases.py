"""Small sweeps for the report tests: a shrunk smile network and register-file organizations."""

TINY = ["nb_epochs=3", "nb_hidden=20", "nb_steps=60", "nb_inputs=60", "nb_outputs=30", "device=cpu"]
# Register-file organizations: priced without the CACTI table, so the test needs no data file.
ARCH = """name: rf-{enc}
tech_node_nm: 45
clock_hz: 1.0e8
memories:
  - {{name: weights, kind: regfile, encoding: {enc}, holds: [weight]}}
  - {{name: states, kind: regfile, word_bits: 32, holds: [syn, mem, spk, input]}}
  - {{name: learning, kind: regfile, word_bits: 32, holds: [err, grad]}}
"""
