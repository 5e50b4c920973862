/* Every BTF kind clang 14 emits for BPF, with the layout facts the graph tests expect.
 *
 * clang 14 has no ENUM64 and no signed-enum flag: the tests get those from
 * pahole encoding the same file compiled for the host.  The _Static_asserts are
 * the C compiler's word on the numbers the tests check against BTF.
 */
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))
#define OFF(t, m) __builtin_offsetof(t, m)

struct inner {
	char c;
	int i;
};

struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 10;
	long long d;
	union {
		int x;
		float y;
	} u;
	struct {
		char z;
		short w;
	};
	struct inner in[2];
	char tail;
};
_Static_assert(sizeof(struct bits) == 48, "bits size");
_Static_assert(_Alignof(struct bits) == 8, "bits align");
_Static_assert(OFF(struct bits, d) == 8, "d");
_Static_assert(OFF(struct bits, u.y) == 16, "u.y");
_Static_assert(OFF(struct bits, z) == 20, "z");
_Static_assert(OFF(struct bits, w) == 22, "w");
_Static_assert(OFF(struct bits, in[1].i) == 36, "in[1].i");
_Static_assert(OFF(struct bits, tail) == 40, "tail");

struct __attribute__((packed)) pk {
	char a;
	int b;
};
_Static_assert(sizeof(struct pk) == 5 && _Alignof(struct pk) == 1 && OFF(struct pk, b) == 1, "pk");

struct __attribute__((aligned(16))) wide {
	int v;
};
_Static_assert(sizeof(struct wide) == 16, "wide");

struct outer {
	char c;
	struct wide w;
	__int128 big;
	double dd;
};
_Static_assert(OFF(struct outer, w) == 16 && OFF(struct outer, big) == 32 && sizeof(struct outer) == 64, "outer");

enum color { RED, GREEN = 5, BLUE };
enum sgn { NEG = -2, POS = 3 };
enum big { BIG = 0x100000000ULL };
typedef enum { ANON_A = 1, ANON_B = 2 } anon_enum_t;

struct fwd_s;
union fwd_u;

struct tagged {
	int m0;
	int m1 __tag("member_tag");
} __tag("struct_tag");

struct node_data {
	long key;
	struct tagged link;
};

struct list_head_like {
	void *first;
};

typedef struct bits bits_t;
typedef const volatile int cv_int;
typedef int *restrict rptr;
typedef int (*callback_t)(struct fwd_s *, union fwd_u *, ...);

/* .bss */
bits_t g_bits;
struct pk g_pk;
struct outer g_outer;
enum color g_color;
enum sgn g_sgn;
enum big g_big;
anon_enum_t g_anon;
char g_matrix[3][4];
int __user *g_user_ptr;
rptr g_rptr;
callback_t g_cb;
float g_float;
struct list_head_like g_head __tag("contains:node_data:link");
struct node_data g_node;
/* .data, .rodata, a named section */
int g_data = 1;
const volatile cv_int g_rodata = 2;
int g_custom __attribute__((section(".data.custom"))) = 3;
/* .ksyms: an extern variable and an extern function */
extern int ext_var __attribute__((section(".ksyms")));
extern void ext_fn(int) __attribute__((section(".ksyms")));

struct enums {
	enum color c;
	enum sgn s;
	enum big b;
};

int read_enums(struct enums *e)
{
	return e->s + e->c;
}

static __attribute__((noinline)) int helper(struct tagged *t)
{
	return t->m1;
}

__tag("comment:test_expect_msg=R0 invalid mem access") __tag("comment:second")
int tagged_func(struct tagged *t __tag("param_tag"), int n)
{
	ext_fn(n);
	return helper(t) + ext_var + g_bits.a;
}
