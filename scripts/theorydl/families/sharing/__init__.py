"""Weight sharing is crucial to successful optimization (Shalev-Shwartz, Shamir, Shammah 2017)."""
