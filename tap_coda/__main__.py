from tap_coda.tap import TapCoda

TapCoda.cli()
