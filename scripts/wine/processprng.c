/*
 * TEST-ONLY shim: never ship it, never put it beside a release .exe.
 *
 * Rust's standard library on Windows imports ProcessPrng from bcryptprimitives.dll. Wine 8.0
 * (Debian 12) has no bcryptprimitives.dll, so the .exe dies at load with status c0000135
 * before main. scripts/check-windows.sh builds this file with mingw into a
 * bcryptprimitives.dll placed beside the .exe in a scratch folder, only to run the headless
 * commands under wine64. ProcessPrng forwards to RtlGenRandom (SystemFunction036 in
 * advapi32), which Wine has.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll processprng.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom: exported by advapi32 under the name SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Windows' ProcessPrng fills `len` bytes; it always returns TRUE. The length is a SIZE_T, so
 * fill in chunks that fit RtlGenRandom's ULONG. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
