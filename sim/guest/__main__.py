import sys

from sim.guest.main import main

sys.exit(main())
