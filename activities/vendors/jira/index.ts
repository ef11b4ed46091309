export { jiraDescriptor, jiraDescriptors } from './descriptor';
