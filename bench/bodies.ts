/**
 * The body of Dynatrace's "Send test notification" as its documentation shows it (with the
 * placeholder IDs the reference template recognises a test by): what the benches post as a test
 * notification, to the service, the bare route and the template alike.
 */
export const docsTest = JSON.stringify({
  ImpactedEntities: [{ type: 'HOST', name: 'MyHost1', entity: 'HOST-XXXXXXXXXXXXX' }, { type: 'SERVICE', name: 'MyService1', entity: 'SERVICE-XXXXXXXXXXXXX' }],
  ImpactedEntity: 'MyHost1, MyService1',
  PID: '99999',
  ProblemDetailsHTML: '<h1>Dynatrace problem notification test run details</h1>',
  ProblemDetailsJSON: { ID: '99999' },
  ProblemID: '999',
  ProblemImpact: 'INFRASTRUCTURE',
  ProblemTitle: 'Dynatrace problem notification test run',
  'Problem URL': 'https://example.com',
  State: 'OPEN',
  Tags: 'testtag1, testtag2',
})
