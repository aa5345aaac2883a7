"""Reading and writing inside a tree a sandbox wrote, without ever following its symlinks.

The server runs as root (or as the user), and an attempt's worktree, an agent's HOME and a
process's artifact folder are written by a sandboxed agent: hostile input. A path joined onto
such a tree and opened the usual way follows any symlink in any of its components, so a link the
agent committed or left behind would make the server read a host file (and show or store it) or
write one (as root). Every host-side read and write of such a tree goes through here instead:

- a path is opened relative to a directory fd of its tree, one that is never left: `openat2`
  with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS where the kernel has it
  (5.6+), else component by component with O_NOFOLLOW, each directory opened from the last one;
- a symlink anywhere on the way is refused (`UnsafePath`, code `unsafe_path`), as is anything
  that is not a regular file where a file is read or replaced (a fifo, a device, a directory);
- a file is written to a new name first (O_CREAT|O_EXCL) and renamed into place, so neither a
  link nor a hard link at the destination is ever written through;
- reads are capped (`FileTooLarge`, code `file_too_large`);
- `walk` lists a tree from directory fds, so a directory swapped for a link between listing and
  use cannot lead outside it.

Only the root of a tree is given by path, and it is the server's own (e.g. the worktree's dir).

The package: beneath.py opens a path beneath a tree's root (openat2, or component by component),
reading.py, writing.py and walking.py do the rest through it. Use it as `safefs.<name>`.
"""

from paddock.runtime.safefs.beneath import UnsafePath, open_root
from paddock.runtime.safefs.reading import FileTooLarge, lstat, open_read, read_bytes
from paddock.runtime.safefs.walking import Entry, walk
from paddock.runtime.safefs.writing import copy_in, makedirs, write_bytes

__all__ = [
    "Entry",
    "FileTooLarge",
    "UnsafePath",
    "copy_in",
    "lstat",
    "makedirs",
    "open_read",
    "open_root",
    "read_bytes",
    "walk",
    "write_bytes",
]
