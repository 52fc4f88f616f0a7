/**
 * A tiny static x86-64 Linux executable, assembled by hand: one ELF header,
 * one PT_LOAD program header covering the whole file, then code that writes
 * a message to stdout (looping over partial writes) and exits 0 (1 if a
 * write fails). No libc, no sections.
 */

const LOAD_ADDR = 0x400000n;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;

/**
 * The machine code. The rip-relative displacement to the message and its
 * length are patched in.
 *
 *   0: 48 8d 35 <disp32>   lea  rsi, [rip+msg]
 *   7: ba <len32>          mov  edx, len
 *  12: 48 85 d2            test rdx, rdx          ; again:
 *  15: 74 19               jz   ok                ; all written
 *  17: b8 01 00 00 00      mov  eax, 1            ; write
 *  22: bf 01 00 00 00      mov  edi, 1            ; to fd 1
 *  27: 0f 05               syscall
 *  29: 48 85 c0            test rax, rax
 *  32: 7e 0c               jle  fail              ; error or no progress
 *  34: 48 01 c6            add  rsi, rax
 *  37: 48 29 c2            sub  rdx, rax
 *  40: eb e2               jmp  again
 *  42: 31 ff               xor  edi, edi          ; ok: status 0
 *  44: eb 05               jmp  exit
 *  46: bf 01 00 00 00      mov  edi, 1            ; fail: status 1
 *  51: b8 3c 00 00 00      mov  eax, 60           ; exit:
 *  56: 0f 05               syscall
 *  58: <message>
 */
function code(msgLen: number): Buffer {
  const c = Buffer.from([
    0x48, 0x8d, 0x35, 0, 0, 0, 0,
    0xba, 0, 0, 0, 0,
    0x48, 0x85, 0xd2,
    0x74, 0x19,
    0xb8, 0x01, 0x00, 0x00, 0x00,
    0xbf, 0x01, 0x00, 0x00, 0x00,
    0x0f, 0x05,
    0x48, 0x85, 0xc0,
    0x7e, 0x0c,
    0x48, 0x01, 0xc6,
    0x48, 0x29, 0xc2,
    0xeb, 0xe2,
    0x31, 0xff,
    0xeb, 0x05,
    0xbf, 0x01, 0x00, 0x00, 0x00,
    0xb8, 0x3c, 0x00, 0x00, 0x00,
    0x0f, 0x05,
  ]);
  // the message starts right after the code; rip points past the 7-byte lea
  c.writeInt32LE(c.length - 7, 3);
  c.writeUInt32LE(msgLen, 8);
  return c;
}

/** Builds the executable that prints `message` (UTF-8) and exits 0. */
export function helloElf(message: string): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const text = code(msg.length);
  const total = EHDR_SIZE + PHDR_SIZE + text.length + msg.length;
  const out = Buffer.alloc(total);

  // ELF header
  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* SysV ABI */], 0);
  out.writeUInt16LE(2, 16); // e_type: ET_EXEC
  out.writeUInt16LE(0x3e, 18); // e_machine: x86-64
  out.writeUInt32LE(1, 20); // e_version
  out.writeBigUInt64LE(LOAD_ADDR + BigInt(EHDR_SIZE + PHDR_SIZE), 24); // e_entry
  out.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff
  out.writeBigUInt64LE(0n, 40); // e_shoff
  out.writeUInt32LE(0, 48); // e_flags
  out.writeUInt16LE(EHDR_SIZE, 52); // e_ehsize
  out.writeUInt16LE(PHDR_SIZE, 54); // e_phentsize
  out.writeUInt16LE(1, 56); // e_phnum
  out.writeUInt16LE(0, 58); // e_shentsize
  out.writeUInt16LE(0, 60); // e_shnum
  out.writeUInt16LE(0, 62); // e_shstrndx

  // program header: PT_LOAD of the whole file, read + execute
  const ph = EHDR_SIZE;
  out.writeUInt32LE(1, ph); // p_type: PT_LOAD
  out.writeUInt32LE(5, ph + 4); // p_flags: R | X
  out.writeBigUInt64LE(0n, ph + 8); // p_offset
  out.writeBigUInt64LE(LOAD_ADDR, ph + 16); // p_vaddr
  out.writeBigUInt64LE(LOAD_ADDR, ph + 24); // p_paddr
  out.writeBigUInt64LE(BigInt(total), ph + 32); // p_filesz
  out.writeBigUInt64LE(BigInt(total), ph + 40); // p_memsz
  out.writeBigUInt64LE(0x1000n, ph + 48); // p_align

  text.copy(out, EHDR_SIZE + PHDR_SIZE);
  msg.copy(out, EHDR_SIZE + PHDR_SIZE + text.length);
  return out;
}

/** Berth's hello-world greeting. */
export const HELLO_MESSAGE = `
Hello from Berth!
This message shows that your installation appears to be working correctly.

To produce this message, Berth went through these steps:
 1. The berth client asked the berthd daemon to run the "hello-world" image.
 2. berthd had made that image offline, with "berth bootstrap": a single
    tiny program and nothing else.
 3. berthd created a container from the image and started the program in it.
 4. berthd streamed the program's output back to the berth client, which
    wrote it to your terminal.

For something more hands-on, start a shell in a busybox container:
 $ berth run -it busybox sh

`;
