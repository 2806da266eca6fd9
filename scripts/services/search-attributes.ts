// The custom search attributes operators filter calls by in the Temporal UI. Every place that starts a
// Temporal server registers these; docker-compose.yml repeats them for its admin-tools init container.
export const SEARCH_ATTRIBUTES = [
  { name: 'CallStatus', type: 'Keyword' },
  { name: 'CallChannel', type: 'Keyword' },
  { name: 'CallerNumber', type: 'Keyword' },
  { name: 'Disposition', type: 'Keyword' },
  { name: 'TurnCount', type: 'Int' },
  { name: 'DropCount', type: 'Int' },
  { name: 'AccountId', type: 'Keyword' },
] as const;

export type SearchAttributeName = (typeof SEARCH_ATTRIBUTES)[number]['name'];
