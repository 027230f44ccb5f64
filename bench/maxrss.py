# Runs a command and prints one JSON line: exit code, wall seconds and the peak RSS (KiB) of the
# largest process it waited for (getrusage(RUSAGE_CHILDREN).ru_maxrss, which on Linux covers the
# command's own children too). Used by bench/replicas.mjs to measure unison and rclone, which cannot
# load the bench's Node RSS hook, and syncwarden the same way for a like-for-like figure.
import json
import resource
import subprocess
import sys
import time

started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)
wall = time.perf_counter() - started
print(
    json.dumps(
        {
            "code": done.returncode,
            "wallMs": wall * 1000,
            "peakRssKiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            "stdout": done.stdout.decode("utf-8", "replace")[-4000:],
            "stderr": done.stderr.decode("utf-8", "replace")[-4000:],
        }
    )
)
