/* A second stand-in module, with a union, an enum and a function pointer. */
enum mod_b_state { MOD_B_IDLE, MOD_B_BUSY = 4 };

union mod_b_word {
	unsigned int raw;
	struct {
		unsigned short lo, hi;
	};
};

struct mod_b_ops {
	int (*start)(union mod_b_word *w, enum mod_b_state s);
	const char *label;
};

int mod_b_run(struct mod_b_ops *ops, union mod_b_word *w)
{
	return ops->start(w, MOD_B_BUSY) + w->hi;
}
