/**
 * sysexits.h numbers that mda may exit with, and nothing else.
 * Postfix defers only on EX_TEMPFAIL (75) and EX_OSERR (71); every other
 * non-zero status bounces (postfix/src/global/sys_exits.c, pipe_command.c).
 */
export const EX_OK = 0;
export const EX_NOUSER = 67; // Postfix: 5.1.1 bounce
export const EX_NOPERM = 77; // Postfix: 5.7.0 bounce; dovecot-lda -e uses it for rejects
export const EX_TEMPFAIL = 75; // Postfix: 4.3.0 defer
