/* Console, exit, panic and the mem* functions the compiler may call (there is no libc or libgcc). */
#include "rt.h"

#include "bootinfo.h"
#include "idt.h"

/* Called by start.S before main: exceptions get a handler (a message and an exit code instead of a silent
 * triple fault) and a bad boot-info struct stops the guest before main reads it. */
void rt_init(const struct jvfio_boot_info *boot);

void rt_init(const struct jvfio_boot_info *boot)
{
    idt_init();
    boot_check(boot);
}

void console_putc(char c)
{
    outb(PORT_CONSOLE, (uint8_t)c);
}

void print(const char *s)
{
    while (*s != '\0')
        console_putc(*s++);
}

void print_hex(uint64_t v)
{
    char buf[16];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v != 0);
    print("0x");
    while (n > 0)
        console_putc(buf[--n]);
}

void print_dec(uint64_t v)
{
    char buf[20];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        console_putc(buf[--n]);
}

void exit(uint32_t code)
{
    outl(PORT_EXIT, code);
    /* The vCPU stops at the outl; should it ever come back, stay here with interrupts off. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void panic(const char *msg)
{
    print("panic: ");
    print(msg);
    print("\n");
    exit(EXIT_PANIC);
}

/* String instructions copy 8 bytes a step (rep movsq is the fast copy in the emulator). DF is clear: the
 * machine enters with RFLAGS=0x2 and the interrupt stubs clear it before calling C. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    void *d = dst;
    const void *s = src;
    size_t quads = n / 8, bytes = n % 8;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(quads) : : "memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(bytes) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* A forward copy is safe unless dst starts inside src; then copy from the end. */
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n > 0) {
        n--;
        d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    uint64_t pattern = 0x0101010101010101ULL * (unsigned char)c;
    size_t quads = n / 8, bytes = n % 8;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(pattern) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}
