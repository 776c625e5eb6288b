/*
 * FPU state per thread (docs/ABI.md): the x87 stack, the MMX registers,
 * the SSE registers (and AVX's upper halves where the CPU has AVX) of one
 * thread survive system calls, switches to a thread that loads its own
 * values, and timer preemption, and never show up in another thread; a new
 * thread starts in the reset state (FNINIT, MXCSR 0x1F80, every register
 * zero). Each load, the switch and the check are one asm block, so no
 * compiled code runs in between (ktest is built -mgeneral-regs-only
 * anyway).
 */
#include "ktest.h"

static char st[3][4096] __attribute__((aligned(16)));
static volatile long fpu_bad[2], fpu_rounds[2], fpu_done[2];
static volatile int have_avx;

/* Load v into the x87 stack (twice, v and ~v), then yield (spin = 0) or spin; check. */
static int x87_round(uint64_t v, uint64_t spin)
{
	uint64_t a = v, b = ~v, ra, rb;

	__asm__ volatile("fildq %[a]\n\t"
	                 "fildq %[b]\n\t"
	                 "testq %[spin], %[spin]\n\t"
	                 "jz 1f\n\t"
	                 "movq %[spin], %%rcx\n"
	                 "2:\tloop 2b\n\t"
	                 "jmp 3f\n"
	                 "1:\tmovl %[nr], %%eax\n\t"
	                 "syscall\n"
	                 "3:\tfistpq %[rb]\n\t"
	                 "fistpq %[ra]"
	                 : [ra] "=m"(ra), [rb] "=m"(rb)
	                 : [a] "m"(a), [b] "m"(b), [spin] "r"(spin), [nr] "i"(MICA_SYS_YIELD)
	                 : "rax", "rcx", "r11", "memory");
	return ra != a || rb != b;
}

/* The same with MMX registers mm0 and mm7 (which alias the x87 registers). */
static int mmx_round(uint64_t v, uint64_t spin)
{
	uint64_t a = v, b = v ^ 0x5a5a5a5a5a5a5a5aULL, ra, rb;

	__asm__ volatile("movq %[a], %%mm0\n\t"
	                 "movq %[b], %%mm7\n\t"
	                 "testq %[spin], %[spin]\n\t"
	                 "jz 1f\n\t"
	                 "movq %[spin], %%rcx\n"
	                 "2:\tloop 2b\n\t"
	                 "jmp 3f\n"
	                 "1:\tmovl %[nr], %%eax\n\t"
	                 "syscall\n"
	                 "3:\tmovq %%mm0, %[ra]\n\t"
	                 "movq %%mm7, %[rb]\n\t"
	                 "emms"
	                 : [ra] "=m"(ra), [rb] "=m"(rb)
	                 : [a] "m"(a), [b] "m"(b), [spin] "r"(spin), [nr] "i"(MICA_SYS_YIELD)
	                 : "rax", "rcx", "r11", "memory");
	return ra != a || rb != b;
}

/* SSE: xmm0 and xmm15; with AVX also the upper half of ymm1. */
static int sse_round(uint64_t v, uint64_t spin)
{
	uint64_t a = v, b = v * 3 + 1, c = v ^ 0xc3c3c3c3c3c3c3c3ULL, ra, rb, rc = c;

	__asm__ volatile("movq %[a], %%xmm0\n\t"
	                 "movq %[b], %%xmm15\n\t"
	                 "testl %[avx], %[avx]\n\t"
	                 "jz 4f\n\t"
	                 "movq %[c], %%xmm2\n\t"
	                 "vinsertf128 $1, %%xmm2, %%ymm1, %%ymm1\n\t"
	                 "vpxor %%xmm2, %%xmm2, %%xmm2\n"
	                 "4:\ttestq %[spin], %[spin]\n\t"
	                 "jz 1f\n\t"
	                 "movq %[spin], %%rcx\n"
	                 "2:\tloop 2b\n\t"
	                 "jmp 3f\n"
	                 "1:\tmovl %[nr], %%eax\n\t"
	                 "syscall\n"
	                 "3:\tmovq %%xmm0, %[ra]\n\t"
	                 "movq %%xmm15, %[rb]\n\t"
	                 "testl %[avx], %[avx]\n\t"
	                 "jz 5f\n\t"
	                 "vextractf128 $1, %%ymm1, %%xmm2\n\t"
	                 "movq %%xmm2, %[rc]\n\t"
	                 "vzeroupper\n"
	                 "5:"
	                 : [ra] "=m"(ra), [rb] "=m"(rb), [rc] "+m"(rc)
	                 : [a] "m"(a), [b] "m"(b), [c] "m"(c), [spin] "r"(spin),
	                   [nr] "i"(MICA_SYS_YIELD), [avx] "r"(have_avx)
	                 : "rax", "rcx", "r11", "memory");
	return ra != a || rb != b || rc != c;
}

/* Two of these run at once, each with its own values: by yield, then by preemption. */
static void fpu_worker(uint64_t i)
{
	long bad = 0;

	for (uint64_t r = 0; r < 40; r++) {
		uint64_t v = (i + 1) * 0x0101010101010101ULL + r * 0x1000 + 7;
		uint64_t spin = r < 30 ? 0 : 3000000; /* the last rounds: preempted mid-check */

		bad += x87_round(v, spin);
		bad += mmx_round(v + 1, spin);
		bad += sse_round(v + 2, spin);
		fpu_rounds[i]++;
	}
	fpu_bad[i] = bad;
	fpu_done[i] = 1;
	mica_thread_exit(0);
}

static long start(void (*entry)(uint64_t), int stack, uint64_t arg)
{
	struct mica_thread_params p = {.entry = (uint64_t)entry,
	                               .stack_top = (uint64_t)(st[stack] + sizeof(st[stack])),
	                               .arg = arg,
	                               .priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};

	return mica_thread_create(self_as, &p);
}

/* Does the kernel run AVX state for us (CPUID AVX and OSXSAVE, XCR0 bits 1-2)? */
static int avx_enabled(void)
{
	uint32_t a, b, c, d, lo, hi;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

static void test_switch(void)
{
	long h[2];

	have_avx = avx_enabled();
	for (int i = 0; i < 2; i++)
		if ((h[i] = start(fpu_worker, i, (uint64_t)i)) < 0)
			return result("cpu.fpu_switch", "thread_create gave", h[i]);
	for (long n = 0; n < 100000 && !(fpu_done[0] && fpu_done[1]); n++)
		mica_yield();
	for (int i = 0; i < 2; i++)
		mica_handle_close((mica_handle_t)h[i]);
	if (!fpu_done[0] || !fpu_done[1])
		return result("cpu.fpu_switch", "a worker did not finish, rounds",
		              fpu_rounds[0] + fpu_rounds[1]);
	if (fpu_bad[0] || fpu_bad[1])
		return result("cpu.fpu_switch", "values lost or seen by the other thread",
		              fpu_bad[0] + fpu_bad[1]);
	say(have_avx ? "ktest: fpu with avx\n" : "ktest: fpu without avx\n");
	result("cpu.fpu_switch", 0, 0);
}

/* ---- a new thread's FPU state ---- */

/* Zero to start with: QEMU's FXSAVE leaves FOP, FIP, FDP and reserved bytes unwritten. */
static uint8_t fx[512] __attribute__((aligned(16)));
static volatile long fresh_bad = -1;
static volatile uint64_t fresh_upper;

/* Save the legacy area first thing, and ymm's upper halves where there are. */
static void fresh(uint64_t arg)
{
	(void)arg;
	uint64_t up = 0;

	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	if (have_avx)
		__asm__ volatile("vextractf128 $1, %%ymm1, %%xmm2\n\t"
		                 "movq %%xmm2, %0\n\t"
		                 "vextractf128 $1, %%ymm15, %%xmm2\n\t"
		                 "movq %%xmm2, %%rax\n\t"
		                 "orq %%rax, %0"
		                 : "+r"(up)
		                 :
		                 : "rax", "memory");
	fresh_upper = up;
	long bad = 0;
	for (int i = 0; i < 464; i++) {
		uint8_t want = 0;

		if (i == 0)
			want = 0x7f; /* FCW 0x037F */
		else if (i == 1)
			want = 0x03;
		else if (i == 25)
			want = 0x1f; /* MXCSR 0x1F80 */
		else if (i == 24)
			want = 0x80;
		else if (i >= 28 && i < 32)
			continue; /* MXCSR_MASK: the CPU's */
		if (fx[i] != want) {
			bad = (i + 1) | (long)fx[i] << 16;
			break;
		}
	}
	fresh_bad = bad;
	mica_thread_exit(0);
}

/*
 * Dirty every register here (x87 stack, MMX, SSE, AVX, MXCSR, FCW), then
 * start a thread: it must see none of it.
 */
static void test_fresh(void)
{
	uint64_t v = 0x1122334455667788ULL;
	uint32_t mxcsr = 0x1F80 ^ 0x6000; /* round toward zero */
	uint16_t fcw = 0x027F;            /* 53-bit precision */

	__asm__ volatile("fldcw %1\n\tldmxcsr %2\n\t"
	                 "fildq %0\n\tfildq %0\n\t"
	                 "movq %0, %%xmm0\n\tmovq %0, %%xmm15\n\tmovq %0, %%xmm1"
	                 :
	                 : "m"(v), "m"(fcw), "m"(mxcsr)
	                 : "memory");
	if (have_avx)
		__asm__ volatile("vinsertf128 $1, %%xmm0, %%ymm1, %%ymm1\n\t"
		                 "vinsertf128 $1, %%xmm0, %%ymm15, %%ymm15" ::
		                     : "memory");
	long h = start(fresh, 2, 0);
	if (h < 0)
		return result("cpu.fpu_fresh", "thread_create gave", h);
	for (int i = 0; i < 100 && fresh_bad < 0; i++)
		mica_yield();
	/* Our own state is still ours: the x87 stack, xmm0, MXCSR. */
	uint64_t r1 = 0, x0 = 0;
	uint32_t m = 0;
	__asm__ volatile("fistpq %0\n\tfistpq %0\n\tmovq %%xmm0, %1\n\tstmxcsr %2\n\t"
	                 "fninit\n\tldmxcsr %3"
	                 : "=m"(r1), "=r"(x0), "=m"(m)
	                 : "m"(*(const uint32_t[]){0x1F80})
	                 : "memory");
	mica_handle_close((mica_handle_t)h);
	if (fresh_bad)
		return result("cpu.fpu_fresh", "fxsave byte differs from reset state at (+1)",
		              fresh_bad);
	if (fresh_upper)
		return result("cpu.fpu_fresh", "ymm upper halves not zero", (long)fresh_upper);
	if (r1 != v || x0 != v || m != mxcsr)
		return result("cpu.fpu_fresh", "the creator's own state changed", 0);
	result("cpu.fpu_fresh", 0, 0);
}

void test_fpu(void)
{
	test_switch();
	test_fresh();
}
