import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on every Temporal server the project starts (scripts/services, docker-compose).
export const CallStatusKey = defineSearchAttributeKey('CallStatus', SearchAttributeType.KEYWORD);
export const CallChannelKey = defineSearchAttributeKey('CallChannel', SearchAttributeType.KEYWORD);
export const CallerNumberKey = defineSearchAttributeKey('CallerNumber', SearchAttributeType.KEYWORD);
export const DispositionKey = defineSearchAttributeKey('Disposition', SearchAttributeType.KEYWORD);
export const TurnCountKey = defineSearchAttributeKey('TurnCount', SearchAttributeType.INT);
export const DropCountKey = defineSearchAttributeKey('DropCount', SearchAttributeType.INT);
/** The customer the call belongs to; set once at start, never upserted (histories from before accounts replay unchanged). */
export const AccountIdKey = defineSearchAttributeKey('AccountId', SearchAttributeType.KEYWORD);
