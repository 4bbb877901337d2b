import sys

try:
    from sim.cli import main
except KeyboardInterrupt:  # Ctrl-C while the modules load
    sys.stderr.write("zpcisim: interrupted\n")
    sys.exit(130)

sys.exit(main())
