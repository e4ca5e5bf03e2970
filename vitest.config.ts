import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // e2e files start real services (Postfix, spamd, clamd) in beforeAll
    hookTimeout: 120_000,
    // Files run in parallel: each e2e file uses its own REALSTACK_DIR and free
    // ports (test/helpers/realstack.ts), so their stacks never collide.
  },
});
