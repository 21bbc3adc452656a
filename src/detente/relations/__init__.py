"""Partner relations: dyad panels, cooperation indices, alignment and networks."""
