# Stage 'features': rules are added by the engineer owning this stage.
