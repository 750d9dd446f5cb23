/**
 * Requirement ids the web-server suite cites that the catalog (`spec/requirements.ts`) does not have yet.
 * They follow the catalog's `FCGI-X-…` form for duties the specification implies but does not state, and
 * carry their level here until the catalog takes them over; the runner adds them to the catalog it grades
 * and reports with.
 */
import type { CatalogEntry } from '../../reports/summarize.ts';
import type { RequirementId } from '../../spec/requirements.ts';

/**
 * §5.5: "The application sends a FCGI_END_REQUEST record to terminate a request". A response whose
 * connection closed before FCGI_END_REQUEST, or that ended with no output at all, is not a complete CGI
 * response; relaying it to the HTTP client as a complete success hides the application's failure.
 */
export const INVALID_RESPONSE = 'FCGI-X-invalid-response-web-server' as RequirementId;

/**
 * An application that accepts a request and never answers: the specification sets no time limit, so how long
 * the web server waits (and whether it gives up at all) is recorded, not judged.
 */
export const STALL_TIMEOUT = 'FCGI-X-stall-timeout-web-server' as RequirementId;

/** The levels and sections of the ids above, in the shape the runner's catalog takes. */
export const webServerExtraCatalog: Readonly<Partial<Record<RequirementId, CatalogEntry>>> = {
  [INVALID_RESPONSE]: { section: 'X', level: 'should', side: 'web-server' },
  [STALL_TIMEOUT]: { section: 'X', level: 'info', side: 'web-server' },
};
