# Stage 'default_data': rules are added by the engineer owning this stage.
