/** How much an audit finding matters: its own module, so that the command line's parser loads no analysis. */
export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];
