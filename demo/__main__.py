import sys

from demo.platform import main

sys.exit(main(sys.argv[1:]))
