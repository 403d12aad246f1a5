"""Private helpers shared by several subpackages (litellm access, GC pauses, secret scrubbing)."""
