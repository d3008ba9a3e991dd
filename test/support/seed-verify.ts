/**
 * The seed's verifyWebhook, imported from the user-facing example (examples/webhook-receiver.mjs) rather than copied:
 * the tests accept a delivery only if the code the README tells users to run accepts it.
 */
type VerifyWebhook = (payload: string, signature: string, secret: string, timestamp: string) => boolean;

// From dist/test/support/ to the repository's examples/ (the .mjs is not compiled).
const example = (await import(new URL('../../../examples/webhook-receiver.mjs', import.meta.url).href)) as { verifyWebhook: VerifyWebhook };

export const seedVerifyWebhook: VerifyWebhook = example.verifyWebhook;
