import sys

try:
    from mc.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python starts: one line, no traceback
    sys.stderr.write("emmc: interrupted\n")
    sys.exit(130)

sys.exit(main())
