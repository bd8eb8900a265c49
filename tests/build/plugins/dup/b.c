/* b.c - fixture: see a.c. */
int LIVE_count = 2;
